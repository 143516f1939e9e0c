"""The cache-behaviour table: every request to a host, split exactly into the classes the compiled rules tell
apart, each evaluated in Cloudflare's order; and the difference between two such tables."""
