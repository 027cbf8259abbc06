"""Notebook 08, PyTorch: ``init_weights_torch(model)`` applying the Weight-initialization
note's policy in place, graded by ``initkit.checks.check_init_weights_torch``. Importing this
module imports torch and registers the entries; each uses only ``torch`` (the notebook imports it)."""

import torch

from . import correct, mistake

TARGET = "init_weights_torch"


@correct(TARGET, "the note's method one: a per-module function given to model.apply", track="torch")
def apply_weight_init(model):
    def weight_init(m):
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight)
            torch.nn.init.constant_(m.bias, 0)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)

    model.apply(weight_init)


def init_each_module(model, generator):
    """apply_weight_init's per-module init, drawing every weight from ``generator``."""
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight, generator=generator)
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


@correct(TARGET, "a modules() loop with the standard deviations computed by hand", track="torch")
def modules_loop_by_hand(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                receptive = m.weight[0, 0].numel()
                fan_in, fan_out = m.weight.shape[1] * receptive, m.weight.shape[0] * receptive
                if isinstance(m, torch.nn.Linear):
                    std = (2.0 / (fan_in + fan_out)) ** 0.5
                else:
                    std = (2.0 / fan_out) ** 0.5
                m.weight.normal_(0.0, std)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.weight.fill_(1.0)
                m.bias.zero_()
    return model


@mistake(TARGET, ("coverage", "scale", "distribution"),
         "the note's method two: the loop handles Conv2d and BatchNorm only, so Linear layers keep "
         "their old values", track="torch")
def seed_loop_without_linear(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.constant_(m.weight, 1)
            torch.nn.init.constant_(m.bias, 0)


@mistake(TARGET, ("coverage", "scale", "distribution"),
         "model.children(): only direct children are visited, nested containers are skipped", track="torch")
def children_only(model):
    for m in model.children():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight)
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


@mistake(TARGET, ("coverage",), "only nn.BatchNorm2d is handled: BatchNorm1d layers keep their old values",
         track="torch")
def batchnorm2d_only(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight)
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


@mistake(TARGET, ("coverage",), "weights set, biases left as they were", track="torch")
def biases_untouched(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


@mistake(TARGET, ("scale",), "convolutions in mode 'fan_in' instead of 'fan_out'", track="torch")
def conv_fan_in(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight)
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


@mistake(TARGET, ("scale",), "He/Kaiming normal (2/fan_in) on the Linear layers instead of Xavier", track="torch")
def kaiming_for_linear(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


@mistake(TARGET, ("distribution",), "xavier_uniform_ on the Linear layers: the right variance, the wrong family",
         track="torch")
def xavier_uniform_for_linear(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


@mistake(TARGET, ("distribution",),
         "a private torch.Generator seeded with 0: torch.manual_seed no longer decides the draw, "
         "every model starts alike", track="torch")
def private_fixed_generator(model):
    init_each_module(model, torch.Generator().manual_seed(0))


@mistake(TARGET, ("distribution",),
         "torch.manual_seed(0) inside: the caller's seed is thrown away, every model starts alike", track="torch")
def reseeds_inside(model):
    torch.manual_seed(0)
    apply_weight_init(model)


@mistake(TARGET, ("distribution",),
         "a generator of its own made once (a default argument): torch.manual_seed does not decide the draw",
         track="torch")
def generator_made_once(model, generator=torch.Generator().manual_seed(0)):
    init_each_module(model, generator)
