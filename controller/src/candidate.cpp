#include "hilnas/controller/candidate.h"

namespace hilnas::controller {

namespace {

v1::MorphismKind KindOf(arch::MorphismKind k) {
    switch (k) {
        case arch::MorphismKind::kCopy:
            return v1::MORPHISM_COPY;
        case arch::MorphismKind::kWiden:
            return v1::MORPHISM_WIDEN;
        case arch::MorphismKind::kIdentity:
            return v1::MORPHISM_IDENTITY;
        case arch::MorphismKind::kGrowKernel:
            return v1::MORPHISM_GROW_KERNEL;
        case arch::MorphismKind::kFresh:
            return v1::MORPHISM_FRESH;
    }
    return v1::MORPHISM_KIND_UNSPECIFIED;
}

}  // namespace

void MappingToProto(const std::vector<arch::LayerMapping>& layers, const std::string& parent,
                    v1::Morphism* out) {
    out->Clear();
    out->set_parent_trial_id(parent);
    for (const auto& m : layers) {
        v1::LayerMapping* p = out->add_layers();
        p->set_child_layer(m.child_layer);
        p->set_parent_layer(m.parent_layer);
        p->set_kind(KindOf(m.kind));
        for (int c : m.out_channel_map) p->add_out_channel_map(c);
        for (int c : m.in_channel_map) p->add_in_channel_map(c);
    }
}

v1::Candidate MakeCandidate(const v1::JobSpec& spec, const arch::SearchSpace& space,
                            const arch::Point& point, const std::string& name,
                            const std::optional<arch::Morphed>& morphism,
                            const std::string& parent_trial_id) {
    v1::Candidate c;
    arch::ModelToProto(arch::BuildModel(space, point, name), c.mutable_model());

    v1::TrainingRecipe* t = c.mutable_training();
    *t = spec.training();  // the job's defaults (seed, train_limit, augmentation, ...)
    t->set_optimizer(point.optimizer == arch::TrainOptimizer::kSgd ? v1::TRAIN_OPTIMIZER_SGD
                                                                   : v1::TRAIN_OPTIMIZER_ADAMW);
    t->set_learning_rate(point.learning_rate);
    t->set_weight_decay(point.weight_decay);
    t->set_epochs(point.epochs);
    t->set_batch_size(point.batch_size);
    if (t->seed() == 0) t->set_seed(spec.seed());

    v1::PruningSettings* p = c.mutable_pruning();
    switch (point.pruning) {
        case arch::PruningMethod::kNone:
            p->set_method(v1::PRUNING_NONE);
            break;
        case arch::PruningMethod::kSparseVd:
            p->set_method(v1::PRUNING_SPARSE_VD);
            break;
        case arch::PruningMethod::kChannel:
            p->set_method(v1::PRUNING_CHANNEL);
            break;
        case arch::PruningMethod::kBayesian:
            p->set_method(v1::PRUNING_BAYESIAN);
            break;
    }
    if (point.pruning != arch::PruningMethod::kNone) p->set_target_sparsity(point.target_sparsity);

    v1::QuantizationSettings* q = c.mutable_quantization();
    q->set_qat(true);
    q->set_weight_bits(8);  // per-layer bit widths are in the IR

    if (point.dnas) {
        v1::DnasSettings* d = c.mutable_dnas();
        d->set_enabled(true);
        d->set_max_sram_bytes(spec.constraints().max_sram_bytes());
        d->set_max_flash_bytes(spec.constraints().max_flash_bytes());
        if (spec.constraints().has_max_macs()) d->set_max_macs(spec.constraints().max_macs());
        // The job's limits are what the optimiser already keeps every candidate
        // within; alone they would never bind. The gene says how far below its
        // own start this candidate's search must go.
        d->set_shrink(point.dnas_shrink);
    }
    for (double u : arch::Encode(space, point)) c.add_encoding(u);
    if (morphism) MappingToProto(morphism->layers, parent_trial_id, c.mutable_morphism());
    return c;
}

}  // namespace hilnas::controller
