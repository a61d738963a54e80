"""The built-in tools and the catalog that declares them."""
