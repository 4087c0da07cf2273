# src/io/local.mk - URLs and object storage through libcurl: a leaf that
# depends only on errors and options.
libmpibatch_a_SOURCES += src/io/url.c src/io/url.h src/io/retry.c src/io/retry.h \
	src/io/sign.c src/io/sign.h src/io/request.c src/io/request.h \
	src/io/upload.c src/io/upload.h src/io/transfer.c src/io/transfer.h
