"""What api/ and web/ share where input enters: the input policy, its middleware, headers."""
