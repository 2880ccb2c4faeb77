"""Delivery: names shared by the promotion pipeline (stacks/delivery) and the post-deployment smoke check."""
