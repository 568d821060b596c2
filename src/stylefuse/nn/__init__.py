"""Networks: building blocks, generators and discriminators, registered in :data:`stylefuse.hub.NETWORKS`."""
