// The container registry azd pushes the Functions image to; the app's identity pulls with AcrPull, so the
// registry's admin user stays off.

param name string
param location string
param tags object = {}

@description('Principal id of the identity that pulls images.')
param pullPrincipalId string

// Built-in role definition id of AcrPull.
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
  }
}

resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, pullPrincipalId, acrPull)
  properties: {
    principalId: pullPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
