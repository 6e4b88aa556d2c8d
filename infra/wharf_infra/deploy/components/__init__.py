"""One Pulumi ComponentResource per part of the platform, one file each; each names its children
after itself (`component.py`)."""
