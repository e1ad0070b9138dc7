"""政务服务管理平台 Service management platform: package ``yiwang_management``."""
