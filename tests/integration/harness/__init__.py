# SPDX-License-Identifier: GPL-2.0-or-later
"""Integration test harness for tpop3d: the real daemon, real clients."""
