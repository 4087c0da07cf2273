# src/ml/local.mk - the classifier's core: tokens and hashed features, the
# logistic regression, arXiv records, model files.
libmpibatch_a_SOURCES += src/ml/tokenize.c src/ml/tokenize.h src/ml/model.c \
	src/ml/model.h src/ml/jsonl.c src/ml/jsonl.h src/ml/model_io.c src/ml/model_io.h
