"""业务办理系统 Business-handling system: package ``yiwang_business``."""
