"""The InterventionEngine action group: the interventions allowed now, asking for one, the history."""
