# src/io/local.mk - inputs and outputs at URLs through libcurl (issue 5).
