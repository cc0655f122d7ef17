"""The StruggleDetection action group: a user's open struggle signals, a feature's hot spots."""
