"""申请材料 Materials: uploads proxied to data-sharing and the record of who uploaded what."""
