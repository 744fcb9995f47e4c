"""Synthesis plots are well-formed SVG that show the network's structure."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from equipoise.report.plots import network_forest, network_plot, pairwise_forest
from equipoise.synthesis.pairwise import MetaAnalysis
from tests.reference.runners_network import _n01_fit


def test_network_plot_has_a_node_per_treatment_and_an_edge_per_compared_pair() -> None:
    fit = _n01_fit()
    root = ET.fromstring(network_plot(fit.network))
    nodes = [e for e in root.iter() if e.get("class") == "node"]
    edges = [e for e in root.iter() if e.get("class") == "edge"]
    assert len(nodes) == len(fit.treatments) == 4
    pairs = {tuple(sorted((sc.treatments[i], sc.treatments[j])))
             for sc in fit.network.studies for i, j in sc.pairs()}
    assert len(edges) == len(pairs)
    assert sum(int(e.get("data-studies", "0")) for e in edges) == fit.network.n_pairwise


def test_forest_plots_parse() -> None:
    ET.fromstring(network_forest(_n01_fit()))
    y, v = np.array([0.1, 0.4, 0.2]), np.array([0.05, 0.02, 0.04])
    fit = MetaAnalysis("REML").fit((y, v))
    root = ET.fromstring(pairwise_forest(fit, y, v, measure="SMD"))
    assert root.find("{http://www.w3.org/2000/svg}title") is not None or root.find(
        "title") is not None
