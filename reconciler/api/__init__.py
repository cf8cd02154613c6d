"""The Waves API client: the only code in voicectl that speaks HTTP."""
