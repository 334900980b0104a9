"""Fault tests: each case on the real servers, ending with every workflow closed or alive."""
