"""互联网政务服务门户 Internet service portal: package ``yiwang_gateway``."""
