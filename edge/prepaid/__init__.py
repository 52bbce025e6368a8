"""Prepaid cost control (费控): tariffs and balances, the trip/close policy, the command journal
and the jobs that send a command and verify it by reading the relay state back."""
