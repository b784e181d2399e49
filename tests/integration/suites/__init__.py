# SPDX-License-Identifier: GPL-2.0-or-later
"""The integration tests, one module per area."""
