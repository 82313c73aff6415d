"""DynamoDB repositories over the one table (pk/sk, one GSI, TTL) and the sync queue."""
