/* train.h - `mpibatch train`: fit a topic model across MPI ranks.
 *
 * Rank 0 streams the labelled JSON lines through the dynamic schedule;
 * every rank extracts the features of the documents it gets and counts
 * them.  The counts, then every optimiser step's loss and gradient, are
 * summed with MPI_Allreduce over int64 (see model.h), so the model file has
 * the same bits at any rank count.  Rank 0 writes it.
 */
#ifndef MPIBATCH_TRAIN_H
#define MPIBATCH_TRAIN_H

#include "mpibatch/command.h"

extern const mb_command mb_command_train;

#endif
