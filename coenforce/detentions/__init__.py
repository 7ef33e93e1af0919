"""Detained-worker alerts (not built yet). The A-Number rules live here already
(`a_number.py`), because this module alone will hold A-Numbers."""
