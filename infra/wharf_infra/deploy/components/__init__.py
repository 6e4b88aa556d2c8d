"""One Pulumi ComponentResource per part of the platform, one file each."""
