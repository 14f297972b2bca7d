"""Downstream evaluation: MathVision_mini and Geometry3K test, k samples per problem, AVG@k."""
