# tests/fuzz/local.mk - fuzz targets (make fuzz), their replays in make
# check, the bad-input suite's helpers and the valgrind runs.
#
# Each parser of outside data has a target tests/fuzz/fuzz_X.c.  `make fuzz`
# (tests/fuzz/run.sh) configures a separate clang build with libFuzzer,
# AddressSanitizer and UBSan and links the fuzz_X programs there; they are
# EXTRA_PROGRAMS, built only on request.  In every build, make check links
# the same targets with tests/fuzz/replay.c into replay_X and replays the
# seed corpus and every saved crash (tests/fuzz/regress.sh).
FUZZ_TARGET_LIST = tests/fuzz/fuzz_job tests/fuzz/fuzz_cli tests/fuzz/fuzz_jsonl \
	tests/fuzz/fuzz_tokenize tests/fuzz/fuzz_url tests/fuzz/fuzz_response \
	tests/fuzz/fuzz_lines tests/fuzz/fuzz_model tests/fuzz/fuzz_docstore \
	tests/fuzz/fuzz_exec_lines
REPLAY_LIST = tests/fuzz/replay_job tests/fuzz/replay_cli tests/fuzz/replay_jsonl \
	tests/fuzz/replay_tokenize tests/fuzz/replay_url tests/fuzz/replay_response \
	tests/fuzz/replay_lines tests/fuzz/replay_model tests/fuzz/replay_docstore \
	tests/fuzz/replay_exec_lines
EXTRA_PROGRAMS += $(FUZZ_TARGET_LIST)
check_PROGRAMS += $(REPLAY_LIST)

# libFuzzer supplies main(); run.sh sets FUZZER_LINK=-fsanitize=fuzzer.
FUZZER_LINK =
FUZZ_COMMON = tests/fuzz/fuzz.h tests/fuzz/fuzz_util.c
REPLAY_COMMON = $(FUZZ_COMMON) tests/fuzz/replay.c
tests_fuzz_fuzz_job_SOURCES = tests/fuzz/fuzz_job.c $(FUZZ_COMMON)
tests_fuzz_fuzz_job_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_job_SOURCES = tests/fuzz/fuzz_job.c $(REPLAY_COMMON)
tests_fuzz_fuzz_cli_SOURCES = tests/fuzz/fuzz_cli.c $(FUZZ_COMMON)
tests_fuzz_fuzz_cli_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_cli_SOURCES = tests/fuzz/fuzz_cli.c $(REPLAY_COMMON)
tests_fuzz_fuzz_jsonl_SOURCES = tests/fuzz/fuzz_jsonl.c $(FUZZ_COMMON)
tests_fuzz_fuzz_jsonl_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_jsonl_SOURCES = tests/fuzz/fuzz_jsonl.c $(REPLAY_COMMON)
tests_fuzz_fuzz_tokenize_SOURCES = tests/fuzz/fuzz_tokenize.c $(FUZZ_COMMON)
tests_fuzz_fuzz_tokenize_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_tokenize_SOURCES = tests/fuzz/fuzz_tokenize.c $(REPLAY_COMMON)
tests_fuzz_fuzz_url_SOURCES = tests/fuzz/fuzz_url.c $(FUZZ_COMMON)
tests_fuzz_fuzz_url_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_url_SOURCES = tests/fuzz/fuzz_url.c $(REPLAY_COMMON)
tests_fuzz_fuzz_response_SOURCES = tests/fuzz/fuzz_response.c $(FUZZ_COMMON)
tests_fuzz_fuzz_response_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_response_SOURCES = tests/fuzz/fuzz_response.c $(REPLAY_COMMON)
tests_fuzz_fuzz_lines_SOURCES = tests/fuzz/fuzz_lines.c $(FUZZ_COMMON)
tests_fuzz_fuzz_lines_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_lines_SOURCES = tests/fuzz/fuzz_lines.c $(REPLAY_COMMON)
tests_fuzz_fuzz_model_SOURCES = tests/fuzz/fuzz_model.c $(FUZZ_COMMON)
tests_fuzz_fuzz_model_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_model_SOURCES = tests/fuzz/fuzz_model.c $(REPLAY_COMMON)
tests_fuzz_fuzz_docstore_SOURCES = tests/fuzz/fuzz_docstore.c $(FUZZ_COMMON)
tests_fuzz_fuzz_docstore_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_docstore_SOURCES = tests/fuzz/fuzz_docstore.c $(REPLAY_COMMON)
tests_fuzz_fuzz_exec_lines_SOURCES = tests/fuzz/fuzz_exec_lines.c $(FUZZ_COMMON)
tests_fuzz_fuzz_exec_lines_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_replay_exec_lines_SOURCES = tests/fuzz/fuzz_exec_lines.c $(REPLAY_COMMON)

fuzz-targets: $(FUZZ_TARGET_LIST)

# The libFuzzer build lives in its own directory under this build.
fuzz:
	sh $(abs_top_srcdir)/tests/fuzz/run.sh $(abs_top_builddir)/libfuzzer

.PHONY: fuzz fuzz-targets

TESTS += tests/fuzz/regress.sh tests/valgrind/paths.sh
EXTRA_DIST += tests/fuzz/regress.sh tests/valgrind tests/scale tests/fuzz/run.sh \
	tests/fuzz/corpus tests/fuzz/regress
