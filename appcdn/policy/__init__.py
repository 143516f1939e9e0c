"""Policy compilers: pure functions from the neutral config to Cloudflare rules and behaviour tables."""
