"""Staff sign-in: accounts, lockout, the signed-in session and its idle timeout."""
