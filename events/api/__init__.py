"""JSON endpoints: parse, one domain call, render. Routes are declared as data in each module."""
