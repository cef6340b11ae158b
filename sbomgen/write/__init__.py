"""Writers: each turns an Inventory into bytes of one format."""
