-- The invoices screen finds a customer's invoices. Partial, so the walk-in sales that make up
-- most of a day (no customer) add nothing to it: finalize writes no extra index page for them.
CREATE INDEX invoice_customer ON invoice(tenant_id, customer_id, issued_at_ms)
    WHERE customer_id IS NOT NULL;
