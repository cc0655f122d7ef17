"""The VideoIntelligence action group: a user's engagement with one video and across videos."""
