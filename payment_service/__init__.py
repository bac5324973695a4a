"""Payment (thanh toán): fee requests, payments through gateways, e-receipts, refunds."""
