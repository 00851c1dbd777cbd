"""The register of data resources and products (登记, 26号): filings, public notice, codes and their
validity. `service` is its API; `controllers` its routes and pages."""
