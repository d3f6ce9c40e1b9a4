"""HTTP routes, one module per area. Routes parse and answer; logic lives in the layers below."""
