"""The fast network on explicit tables, and the style predictor that gives a painting's tables."""

from __future__ import annotations

import torch

from stylefuse.nn.fast_stylizer import FastStylizerNet
from stylefuse.nn.style_predictor import CHANNELS, StylePredictor

PREDICTOR = dict(hidden=8, bottleneck=4)


def _network(**options) -> FastStylizerNet:
    torch.manual_seed(0)
    network = FastStylizerNet(num_styles=3, channels=(4, 8), blocks=1, **options).eval()
    with torch.no_grad():
        for table in network.style_parameters().values():
            table.add_(torch.randn_like(table))
    return network


def test_the_weight_path_is_the_table_path_of_the_weights_tables() -> None:
    network = _network()
    images, weights = torch.rand(2, 3, 16, 24), torch.tensor([[0.2, 0.5, 0.3], [0.0, 1.0, 0.7]])
    with torch.no_grad():
        assert torch.equal(network(images, weights), network.forward_tables(images, network.tables(weights)))


def test_tables_are_linear_in_the_weights_so_blends_are_weighted_sums_of_tables() -> None:
    network = _network()
    weights = torch.tensor([[0.25, 0.0, 0.75]])
    each = network.tables(torch.eye(3))
    mixed = network.tables(weights)
    assert set(mixed) == set(network.table_shapes())
    for name, value in mixed.items():
        assert torch.allclose(value[0], 0.25 * each[name][0] + 0.75 * each[name][2], atol=1e-6)


def test_flatten_round_trips_and_a_style_row_can_be_set_from_tables() -> None:
    network = _network()
    tables = network.tables(torch.tensor([[0.1, 0.6, 0.3]]))
    flat = network.flatten_tables(tables)
    assert flat.shape == (1, sum(shape.numel() for shape in network.table_shapes().values()))
    assert all(torch.equal(value, tables[name]) for name, value in network.unflatten_tables(flat).items())
    images = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        wanted = network.forward_tables(images, tables)
        network.set_style_tables(0, tables)
        assert torch.allclose(network(images, torch.tensor([1.0, 0.0, 0.0])), wanted, atol=1e-5)


def test_the_predictor_starts_at_the_given_tables_whatever_the_painting() -> None:
    network = _network(predictor=PREDICTOR)
    mean = network.flatten_tables(network.tables(torch.full((1, 3), 1 / 3)))[0]
    network.predictor.start_at(mean)
    features = torch.rand(2, 2 * sum(CHANNELS)) * 50
    predicted = network.predict_tables(features)
    assert all(value.shape == (2, *network.table_shapes()[name]) for name, value in predicted.items())
    assert torch.allclose(network.flatten_tables(predicted), mean.expand(2, -1))
    loss = network.predictor(features).square().sum()
    loss.backward()
    assert network.predictor.out.weight.grad.abs().sum() > 0  # the zero last layer still learns


def test_inputs_are_standardised_over_the_training_paintings() -> None:
    predictor = StylePredictor(outputs=5, hidden=8, bottleneck=4)
    features = torch.rand(6, 2 * sum(CHANNELS)) * torch.logspace(-1, 3, 2 * sum(CHANNELS))
    predictor.fit_inputs(features)
    normalised = predictor._normalised(features)
    assert torch.allclose(normalised.mean(0), torch.zeros(1), atol=1e-4)
    assert torch.allclose(normalised.std(0)[normalised.std(0) > 0.5], torch.ones(1), atol=1e-3)


def test_a_network_with_a_predictor_exports_the_same_weight_path(tmp_path) -> None:
    from stylefuse.hub import load_model, save_model

    network = _network(predictor=PREDICTOR)
    config = dict(num_styles=3, channels=[4, 8], blocks=1, predictor=PREDICTOR)
    loaded, _ = load_model(save_model(network, tmp_path / "m", "fast_stylizer", config, half=False))
    images = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded(images, torch.eye(3)[1:2]), network(images, torch.eye(3)[1:2]))
        features = torch.rand(1, 2 * sum(CHANNELS))
        assert torch.equal(loaded.predictor(features), network.predictor(features))
