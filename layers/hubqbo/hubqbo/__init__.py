"""hubqbo: the shared layer of the HubSpot <-> QuickBooks Online integration."""

__version__ = "0.1.0"
