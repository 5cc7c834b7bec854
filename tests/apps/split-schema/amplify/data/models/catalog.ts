import { a } from '@aws-amplify/backend';

// Catalog models live in their own module and are spread into a schema.
export const catalogModels = {
  Availability: a.enum(['IN_STOCK', 'BACKORDER', 'DISCONTINUED']),
  Product: a
    .model({
      sku: a.string().required(),
      name: a.string().required(),
      availability: a.ref('Availability'),
      reviews: a.hasMany('Review', 'productSku'),
    })
    .identifier(['sku'])
    .authorization((allow) => [allow.publicApiKey()]),
  Review: a
    .model({
      productSku: a.string().required(),
      product: a.belongsTo('Product', 'productSku'),
      rating: a.integer().required(),
      comment: a.string(),
    })
    .authorization((allow) => [allow.publicApiKey()]),
};
