"""Uploaded images (avatars): stored on disk, served back by an unguessable URL."""
