# src/io/local.mk - inputs and outputs at URLs through libcurl (issue 5).
AM_CFLAGS += $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
MB_LIBS += $(CURL_LIBS) $(CRYPTO_LIBS)

libmpibatch_a_SOURCES += src/io/url.c src/io/retry.c src/io/sign.c src/io/request.h \
	src/io/request.c src/io/upload.h src/io/upload.c src/io/transfer.c src/io/cp.c
pkginclude_HEADERS += include/mpibatch/url.h include/mpibatch/retry.h \
	include/mpibatch/sign.h include/mpibatch/urlio.h

if HAVE_CHECK
UNIT_TESTS += tests/unit/test_url tests/unit/test_retry tests/unit/test_sign
check_PROGRAMS += tests/unit/test_url tests/unit/test_retry tests/unit/test_sign
tests_unit_test_url_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_url_LDADD = $(UNIT_LDADD)
tests_unit_test_retry_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_retry_LDADD = $(UNIT_LDADD)
tests_unit_test_sign_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sign_LDADD = $(UNIT_LDADD)
endif

INTEGRATION_TESTS += tests/io/http.sh tests/io/s3sig.sh tests/io/gcs.sh tests/io/errors.sh \
	tests/io/secrets.sh tests/io/ranks.sh tests/io/s3rver.sh tests/io/azurite.sh \
	tests/io/classify_urls.sh
EXTRA_DIST += tests/io
