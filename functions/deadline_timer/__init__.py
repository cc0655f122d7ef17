"""The deadline timer: every minute, a timer command onto the stream of each user with something due."""
