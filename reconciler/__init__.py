"""voicectl: declarative voice clones for the Smallest AI Waves API."""

__version__ = "0.1.0"
