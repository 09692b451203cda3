#!/bin/sh
# Run by docker-compose.yml's temporal-namespace service (temporalio/admin-tools) once the server
# answers: the namespace Mandi uses and its Keyword search attributes (workflows/search-attributes.ts;
# scripts/cluster/namespace.ts does the same for `npm run cluster`). Safe to repeat.
set -eu
NS=${NAMESPACE:-default}
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" | grep -q SERVING; do echo 'waiting for Temporal'; sleep 1; done
temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$NS" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$NS" --retention 72h
for name in CustomerId SellerId MarketId OrderId AuctionId FlowStatus; do
  temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$NS" --name "$name" --type Keyword ||
    echo "search attribute $name exists"
done
echo "namespace $NS ready"
