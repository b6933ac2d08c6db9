"""OpenRehab: open-source home neurorehabilitation for people living with spasticity.

Not a medical device. See README.md for what it does and does not do.
"""

__version__ = "0.1.0"
