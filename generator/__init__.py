"""Leadership Press: blog, feeds and the Saturday digest from one model of an article."""
