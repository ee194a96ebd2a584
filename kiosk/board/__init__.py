"""The hall display board: latest call large, previous calls, waiting per service, chime and
spoken call. Public screen: numbers and counters only, never a name or national number."""
