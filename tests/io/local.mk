# tests/io/local.mk - URL inputs and outputs against local test servers.
IO_TESTS = tests/io/http.sh tests/io/s3sig.sh tests/io/gcs.sh tests/io/errors.sh \
	tests/io/secrets.sh tests/io/ranks.sh tests/io/s3rver.sh tests/io/azurite.sh \
	tests/io/classify_urls.sh
TESTS += $(IO_TESTS)
EXTRA_DIST += tests/io
