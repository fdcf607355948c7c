"""The Consonance gateway: the only code that knows Consonance's GraphQL wire format."""
