"""The signed-in person's account: passkeys, sessions, profile, security notices."""
