# The official Odoo 18.0 image plus the Python packages iHub needs beyond Odoo
# (requirements.txt, "Addons"): requests-oauthlib for OAuth2 credentials. Ubuntu's
# package, so that nothing is installed over the image's own Python packages.
FROM odoo:18.0
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-requests-oauthlib \
    && rm -rf /var/lib/apt/lists/*
USER odoo
