"""recon: reconcile a CRM against an ERP."""

__version__ = "0.1.0"
