# src/resilience.mk - journal and resume, task retries, failure limits, speculation.
