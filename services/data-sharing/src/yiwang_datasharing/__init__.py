"""政务服务数据共享平台 Data-sharing platform: package ``yiwang_datasharing``."""
